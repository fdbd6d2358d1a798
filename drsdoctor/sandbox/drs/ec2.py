"""Recovery instances are EC2 instances: what DRS launches, moto's EC2 knows (and terminates with DRS).

Code that checks its launched instances (`ec2 describe-instances` on a recovery instance's ec2InstanceID)
finds them running in the sandbox as in AWS, with the source server's tags, in the job's region.
"""

from __future__ import annotations

from typing import Any

# A placeholder image: moto does not validate AMIs unless told to (MOTO_ENABLE_AMI_VALIDATION).
_IMAGE = "ami-0c0d3776ef525d5dd"
# DRS tags the instances it launches with their source server (AWS: AWSElasticDisasterRecoverySourceServerID).
SOURCE_SERVER_TAG = "AWSElasticDisasterRecoverySourceServerID"


class Ec2Instances:
    """Launches and terminates, in moto's EC2, the instance behind each DRS recovery instance."""

    def __init__(self, account_id: str) -> None:
        self.account_id = account_id

    def _backend(self, region: str) -> Any:
        from moto.ec2.models import ec2_backends

        return ec2_backends[self.account_id][region]

    def launch(self, region: str, instance_id: str, source_server_id: str, tags: dict[str, str]) -> None:
        """An instance with the recovery instance's id, running, tagged like the source server."""
        backend = self._backend(region)
        instance_tags = {**tags, SOURCE_SERVER_TAG: source_server_id}
        reservation = backend.run_instances(_IMAGE, 1, None, [], instance_type="m5.large",
                                            is_instance_type_default=False)
        instance = reservation.instances[0]
        instance.id = instance_id  # DRS names the instance; EC2 answers for it under that id
        backend.create_tags([instance_id], instance_tags)  # EC2 keeps tags by resource id: after the rename

    def terminate(self, region: str, instance_id: str) -> None:
        backend = self._backend(region)
        if any(instance.id == instance_id for instance in backend.all_instances()):
            backend.terminate_instances([instance_id])
