"""The shot being composed, per mode, as Qt-free observable models; and the drafts they persist.

Beside engine/, below ui/: no Qt import anywhere in this package. Widgets bind to these models
(ui/compose/binding.py); probing is I/O and stays out: the widget layer probes off the UI thread
and hands the results to the model.
"""
