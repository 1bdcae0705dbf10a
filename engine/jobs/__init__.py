"""Jobs: long work in a child process, with progress, cancel and crash recovery."""
