// placeholder for build: filled by its kernel work
