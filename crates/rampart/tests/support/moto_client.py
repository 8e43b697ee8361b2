"""boto3 clients for a moto endpoint, optionally with assumed-role credentials (shared by the fixtures)."""
import boto3


def make_client(endpoint):
    kw = dict(endpoint_url=endpoint, aws_access_key_id="testing", aws_secret_access_key="testing")

    def client(svc, region="us-east-1", creds=None):
        args = dict(kw, region_name=region)
        if creds:
            args.update(aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                        aws_session_token=creds["SessionToken"])
        return boto3.client(svc, **args)

    return client
