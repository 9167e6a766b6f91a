"""hypersearch."""
