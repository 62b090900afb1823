"""Settings, read from the environment (prefix EUDR_CHECK_) with safe defaults.

This is the only module that reads the environment: everything else is handed a `Settings`
(or calls `get_settings()`), so a test or a service can set them all in one place.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from eudr_check.i18n import Lang

UNZIP_FACTOR = 4.0  # a zipped plot file expands to a few times its size (KML: 5-10x)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="EUDR_CHECK_", extra="ignore")

    # Largest plot file read at once; protects the service and the CLI from runaway input.
    # Files streamed in slices (see stream_above_mb) are not bound by it.
    max_input_mb: float = Field(default=200.0, gt=0)
    # Largest uncompressed content of a zip/kmz/xlsx, against zip bombs; None: UNZIP_FACTOR
    # times max_upload_mb (200 MB by default), so what a file may expand to follows the cap.
    max_unzipped_mb: float | None = Field(default=None, gt=0)
    # The EU Information System refuses geolocation files over 25 MB.
    traces_max_mb: float = Field(default=25.0, gt=0)
    # The language of the command line and of reports when none is asked for.
    lang: Lang = Lang.ES
    # The folder holding the forest rasters ({data_dir} in config/datasets.yaml).
    datasets: Path = Path("data")
    # The dataset catalog; None: ./config/datasets.yaml, else the one beside the source tree.
    catalog: Path | None = None
    # The plot registry: a SQLite file by default, PostgreSQL by changing this URL.
    registry_url: str = "sqlite:///eudr_check.db"
    # An existing Dask scheduler (tcp://host:port); None: a local cluster of processes.
    dask_address: str | None = None
    # Plot files larger than this (MB), or GeoPackage/FlatGeobuf layers with more plots than
    # stream_above_plots, are checked in slices of batch_plots plots, in bounded memory.
    stream_above_mb: float = Field(default=64.0, gt=0)
    stream_above_plots: int = Field(default=200_000, gt=0)
    # Plots per unit of work (a slice of a large file, or a group of nearby plots).
    batch_plots: int = Field(default=5000, gt=0)
    # Web service: largest upload accepted (the request body, multipart overhead included).
    max_upload_mb: float = Field(default=50.0, gt=0)
    # Web service: largest evidence file (photo or PDF) attached to a plot for its review, and
    # the distance from the plot beyond which a photo's GPS position is flagged.
    max_evidence_mb: float = Field(default=20.0, gt=0)
    evidence_far_km: float = Field(default=1.0, gt=0)
    # Web service: an optional imagery or base-map tile layer under the plot and review maps
    # (a URL template with {z}/{x}/{y}, e.g. a licensed satellite mosaic), its attribution,
    # the name and date recorded on a review made over it. None: no tiles, fully offline.
    imagery_url: str | None = Field(default=None, pattern=r"^https://[^/\s]+/\S*\{z\}\S*$")
    imagery_attribution: str = ""
    imagery_name: str = "imagery"
    imagery_date: str | None = None
    # Web service: most plots, and most vertices over all plots, one upload may hold.
    max_upload_plots: int = Field(default=250_000, gt=0)
    max_upload_vertices: int = Field(default=25_000_000, gt=0)
    # Web service: requests per minute allowed for one token (a burst of that size, then refill).
    rate_limit_per_minute: int = Field(default=240, gt=0)
    # Web service: requests with an unknown or revoked token allowed per address and minute;
    # beyond, the address gets 429 before any token is looked at (no guessing at speed).
    failed_auth_per_minute: int = Field(default=30, gt=0)
    # Web service: the Prefect deployment of the `check-queue` flow ("check-queue/check-queue")
    # that runs the queued check jobs; None: the service runs them itself, one at a time.
    check_deployment: str | None = None
    # Web service: seconds a check job stays with a worker that stopped renewing its lease
    # (a process that died) before another takes it up.
    check_lease_s: float = Field(default=30.0, gt=0)
    # The EU Information System (TRACES), DDS V3 API. The web-service user (the EU Login
    # username), its authentication key (never logged, never stored in a report) and the
    # WebServiceClientId of the environment ("eudr-test" on acceptance).
    traces_username: str | None = None
    traces_auth_key: SecretStr | None = None
    traces_client_id: str = "eudr-test"
    # "acceptance" (the default: make the first real submission there) or "production".
    traces_env: Literal["acceptance", "production"] = "acceptance"
    # The DDS service's full URL; when set it wins over traces_env (a proxy, a local stand-in).
    traces_endpoint: str | None = None
    traces_timeout_s: float = Field(default=60.0, gt=0)
    traces_retries: int = Field(default=3, ge=0, le=10)
    # The EU's limit is 5 calls per second per address.
    traces_calls_per_second: float = Field(default=5.0, gt=0, le=5.0)

    # E-mail (the nightly digest, failures of the nightly run to admins). No host: no e-mail,
    # the digests are still on the "What's new" page. Port 587 with STARTTLS by default;
    # credentials when the server asks for them; a CA file for a server with its own CA.
    smtp_host: str | None = None
    smtp_port: int = Field(default=587, gt=0, le=65535)
    smtp_starttls: bool = True
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_cafile: Path | None = None
    smtp_from: str = "eudr-check <eudr-check@localhost>"
    smtp_timeout_s: float = Field(default=30.0, gt=0)
    # The web service's address as users reach it, for the links in e-mails.
    public_url: str = "http://127.0.0.1:8000"

    @property
    def unzipped_limit_mb(self) -> float:
        """What an archive may expand to (see max_unzipped_mb)."""
        if self.max_unzipped_mb is not None:
            return self.max_unzipped_mb
        return UNZIP_FACTOR * self.max_upload_mb

    @property
    def imagery_host(self) -> str | None:
        """The imagery server's origin, added to the pages' CSP img-src."""
        if not self.imagery_url:
            return None
        parts = urlsplit(self.imagery_url.replace("{s}", "a"))
        host = parts.netloc
        if "{s}" in self.imagery_url:  # Leaflet's subdomains: a., b., c.
            host = "*." + host.split(".", 1)[1]
        return f"{parts.scheme}://{host}"


def get_settings() -> Settings:
    return Settings()
