"""S3 and S3-compatible object storage: ``from plait.data_provider.s3 import S3Staging``
(a plait addition; needs the ``s3`` extra, boto3)."""

from plait.data._s3 import S3Staging as S3Staging

__all__ = ["S3Staging"]
