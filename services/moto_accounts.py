"""Create moto's two test IAM users and print their keys as KEY=VALUE words (for moto.sh).

Runs against a fresh moto server whose first 6 calls are unauthenticated; every later call
must be signed with one of these keys, as on real AWS.
"""

import json
import sys

import boto3

ACCOUNTS = {"FULL": ["ec2:*"], "READONLY": ["ec2:Describe*"]}


def main(endpoint: str) -> None:
    iam = boto3.client("iam", region_name="us-east-1", endpoint_url=endpoint,
                       aws_access_key_id="bootstrap", aws_secret_access_key="bootstrap")
    words = []
    for kind, actions in ACCOUNTS.items():
        user = f"plait-{kind.lower()}"
        iam.create_user(UserName=user)
        iam.put_user_policy(UserName=user, PolicyName="plait-tests", PolicyDocument=json.dumps(
            {"Version": "2012-10-17",
             "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]}))
        key = iam.create_access_key(UserName=user)["AccessKey"]
        words += [f"{kind}_KEY_ID={key['AccessKeyId']}", f"{kind}_SECRET={key['SecretAccessKey']}"]
    print(" ".join(words))


if __name__ == "__main__":
    main(sys.argv[1])
