"""Voilà for the console, with the Host header checked (run as ``python -m shopsim.console.voila_app``).

Voilà's own application allows any Host header (``allow_remote_access=True``), which lets a
web page on another site reach a server on 127.0.0.1 through DNS rebinding. This subclass
accepts only loopback addresses and ``localhost``; everything else is the same Voilà.
"""

from __future__ import annotations

from typing import Any

from voila.app import Voila

#: Host names (besides loopback addresses) a request may be addressed to.
LOCAL_HOSTNAMES = ("localhost",)


class ConsoleVoila(Voila):
    """Voilà that answers 403 to a request whose Host is not this machine."""

    def init_settings(self) -> dict[str, Any]:
        """Voilà's settings with the Host check of Jupyter Server switched on."""
        settings = super().init_settings()
        settings["allow_remote_access"] = False
        settings["local_hostnames"] = list(LOCAL_HOSTNAMES)
        return settings


main = ConsoleVoila.launch_instance

if __name__ == "__main__":
    main()
