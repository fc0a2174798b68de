"""What listens on the laptop: the console's Storage SCP (``storage``, on the lean acceptor
``wire.lean_scp``), the demo PACS (``demo``, its DIMSE handlers in ``demo_handlers``) and C-FIND
attribute matching (``matching``); ``serving`` holds the running/stop pair every server object
shares (the workflow SCP's too).

May import: ``wire``, ``diagnosis``, ``synth`` and the top-level modules; never ``ops``.
"""
