"""The change monitor: undoes unintended changes to a DynamoDB table from its stream.

The pure core is ``core.decide(record, policy, maintenance_open, remembered) ->
Decision`` (no AWS calls, no I/O); ``handler.lambda_handler`` is the Lambda entry point.
Every module, what it does and what it touches: the table in ``lambda/README.md``
("Shape"), which a unit test keeps complete.

Only boto3 and the standard library are used at run time.
"""
