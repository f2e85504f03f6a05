"""Knowledge base: muscles, techniques, tools and treatments, claims — data files validated on load."""
