"""`quitt run`: start the Rasa replicas, the action servers and the gateway together.

Each part runs in its own runtime (Rasa: .venv-rasa, Python 3.10; the rest:
.venv, Python 3.11), so they are separate processes; this package starts them,
waits until each answers, restarts a crashed one with backoff (on one machine
the launcher is the supervisor; in production the orchestrator is), and stops
all of them on Ctrl-C. The integration tests start the very same stack through
`Stack`.

The shape: N Rasa replicas share the tracker store (the database) and the Redis
lock store; every replica calls the action balancer (api/rasa/balancer.py),
which spreads calls over M stateless action servers and retries a refused one;
the gateway spreads conversations over the replicas (api/rasa/client.py).

One idea a module:
- `stack.py`: which processes make a Quitt, on which ports, and when it is ready;
- `supervisor.py`: starting, restarting (backoff) and stopping child processes;
- `rasa_config.py`: Rasa's endpoints (tracker store, lock store, action server);
- `environment.py`: the settings every child is handed;
- `command.py`: the `quitt run` subcommand.
"""

from api.launcher.command import register
from api.launcher.environment import quitt_settings_environment
from api.launcher.rasa_config import lock_store, tracker_store
from api.launcher.stack import Stack
from api.launcher.supervisor import Supervised, Supervisor

__all__ = [
    "Stack",
    "Supervised",
    "Supervisor",
    "lock_store",
    "quitt_settings_environment",
    "register",
    "tracker_store",
]
