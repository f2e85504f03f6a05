"""Knowledge-base commands: techniques, show, muscles, check."""
