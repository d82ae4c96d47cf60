print("tern-inspect")
