"""Embedded local AWS: moto's server plus small, tested shims where it differs from AWS.

`control` starts and stops the server process; `server` is that process's entry point;
`shims/` holds one module per gap, each installed before the server starts serving.
"""
