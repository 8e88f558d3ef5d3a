"""Empty stand-in: only mechanisms the benchmark does not run call into it."""
