import PortaskBroker

await PortaskdCommand.runFromCommandLine()
