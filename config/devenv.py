"""Write a git-ignored .env with fresh development keys, once (`make run` calls this).

Run as `python -m config.devenv`. An existing .env is never overwritten: the keys in it decrypt
the local database.
"""

import base64
import secrets
from pathlib import Path

ENV_FILE = Path(__file__).resolve().parent.parent / ".env"


def main() -> None:
    if ENV_FILE.exists():
        return
    data_key = base64.b64encode(secrets.token_bytes(32)).decode()
    index_key = base64.b64encode(secrets.token_bytes(32)).decode()
    ENV_FILE.write_text(
        "# Development keys written by `make run`. Never commit this file or reuse these keys.\n"
        f"SECRET_KEY={secrets.token_urlsafe(50)}\n"
        f"SAFEHARBOR_DATA_KEYS=dev1:{data_key}\n"
        f"SAFEHARBOR_BLIND_INDEX_KEY={index_key}\n"
    )
    ENV_FILE.chmod(0o600)
    print(f"Wrote development keys to {ENV_FILE}")  # noqa: T201


if __name__ == "__main__":
    main()
