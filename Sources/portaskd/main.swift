import PortaskBroker

print("portaskd \(BrokerVersion.string)")
