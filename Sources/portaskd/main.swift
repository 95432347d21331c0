await PortaskdCommand.runFromCommandLine()
