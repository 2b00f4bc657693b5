"""Platform-neutral commands: parse args, call services, return a Reply."""
