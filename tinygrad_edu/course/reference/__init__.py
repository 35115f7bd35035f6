"""References: each exercise's interface, computed by the engine (tinygrad_edu), so there is no answer key."""
