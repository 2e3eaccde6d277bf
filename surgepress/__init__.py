"""surgepress: the CLI, config, stacks, Terraform runner and embedded AWS behind main.py."""

from surgepress.jsii_env import quiet_jsii

quiet_jsii()  # before anything imports cdktf, whichever entry point comes first
