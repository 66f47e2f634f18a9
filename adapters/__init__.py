"""Model adapters, one module per family; see ``adapters.registry`` for the names.

Hub libraries stay offline unless the user says otherwise (``--pull`` or their own
HF_HUB_OFFLINE=0): no network access the user did not ask for. Set here, once, before any adapter
imports transformers or sentence-transformers.
"""

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
