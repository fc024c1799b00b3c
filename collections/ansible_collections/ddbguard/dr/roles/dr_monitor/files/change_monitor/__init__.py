"""The change monitor: undoes unintended changes to a DynamoDB table from its stream.

Modules, from pure to effectful:

- ``config``: the protection policy, read from environment variables and validated at
  cold start (``PolicyError`` names the bad variable).
- ``marker``: the marker that binds a restore write to the exact image it wrote, so
  that the monitor recognises its own writes without a sticky flag.
- ``core``: ``decide(record, policy) -> Decision``. No AWS calls, no I/O.
- ``adapter``: carries out a decision against DynamoDB with conditional writes.
- ``handler``: the Lambda entry point; wires the three together and reports partial
  batch failures.

Only boto3 and the standard library are used at run time.
"""
