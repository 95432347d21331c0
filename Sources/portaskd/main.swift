print("portaskd")
