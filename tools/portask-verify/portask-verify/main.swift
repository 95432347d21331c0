// portask-verify: checks, repairs and dumps the data files of a stopped broker. See PortaskVerifyCommand.

import PortaskVerifyKit

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

exit(PortaskVerifyCommand.main(arguments: Array(CommandLine.arguments.dropFirst())))
