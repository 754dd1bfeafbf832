"""Speed benchmarks: how long the jobs and their stages take, at which scale, with which settings."""
