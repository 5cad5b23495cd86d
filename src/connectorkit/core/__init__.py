"""Exchange-agnostic domain types. Nothing in this package performs I/O."""
