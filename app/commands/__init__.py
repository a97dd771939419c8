"""The `hibernia` command's subcommands: the server's own (serve, migrate, tokens, clusters) and the
pipeline client (status, deploy, hibernate, wake, history, rollback) that talks to a server over HTTP."""
