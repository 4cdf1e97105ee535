// The workbench page: filled in below.
