"""default_staging: the providers an executor uses when its storage_access is None."""

from __future__ import annotations

from plait.data._ftp import FTPSeparateTaskStaging
from plait.data._http import HTTPSeparateTaskStaging
from plait.data._noop import NoOpFileStaging
from plait.data._staging import Staging
from plait.data._zip import ZipFileStaging

#: Parsl's list: local files in place, FTP and HTTP in separate tasks, zip members
default_staging: list[Staging] = [NoOpFileStaging(), FTPSeparateTaskStaging(),
                                  HTTPSeparateTaskStaging(), ZipFileStaging()]
