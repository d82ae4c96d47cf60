print("tern: not built yet")
