print("portask-codegen")
