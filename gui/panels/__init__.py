"""One panel per stage of a project."""
