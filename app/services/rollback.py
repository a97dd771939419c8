"""Rollback: deploy again the image of an earlier successful deployment, as any deploy."""

from __future__ import annotations

from app.db.models import Deployment
from app.db.repositories.deployments import DeploymentRepository
from app.domain.errors import ErrorCode, HiberniaError, InvalidInput
from app.domain.operations import HibernatedPolicy, OperationOutcome
from app.services.deploy import DeployService
from app.services.results import AppResult
from app.services.targets import Target, TargetAccess

# How far back a rollback without `to` looks for an image other than the running one.
_LOOK_BACK = 100


class RollbackService:
    def __init__(self, access: TargetAccess, deploy: DeployService) -> None:
        self.access = access
        self.deploy = deploy

    async def rollback(
        self,
        app: str,
        environment: str,
        *,
        to_deployment_id: int | None,
        on_hibernated: HibernatedPolicy | None,
        actor: str,
    ) -> AppResult:
        """Redeploys the image of `to_deployment_id`, or of the newest successful deployment before
        the current one whose image differs; through the deploy's lease, hibernation guard and
        policy. The new deployment links to the one that was current."""
        try:
            target = await self.access.resolve(app, environment)
            current, wanted = await self._choose(target, to_deployment_id)
        except HiberniaError as error:
            return AppResult(OperationOutcome.FAILED, errors=[error])
        return await self.deploy.deploy(
            app,
            environment,
            wanted.image,
            on_hibernated=on_hibernated,
            actor=actor,
            rolled_back_from_id=None if current is None else current.id,
        )

    async def _choose(self, target: Target, to_deployment_id: int | None) -> tuple[Deployment | None, Deployment]:
        async with self.access.session_factory() as session:
            deployments = DeploymentRepository(session)
            succeeded = await deployments.succeeded(target.id, limit=_LOOK_BACK)
            current = succeeded[0] if succeeded else None
            if to_deployment_id is not None:
                wanted = await deployments.get(to_deployment_id)
                if wanted is None or wanted.app_environment_id != target.id:
                    raise HiberniaError(
                        ErrorCode.NOT_FOUND,
                        f"No deployment with that id was made to {target.label}; `hibernia history` lists its "
                        "deployments with their ids.",
                        field="to",
                    )
                return current, wanted
        earlier = [d for d in succeeded[1:] if current is not None and d.image != current.image]
        if not earlier:
            raise InvalidInput(
                f"{target.label} has no earlier successful deployment of another image to roll back to; "
                "deploy the image you want, or name a deployment with `to`.",
                field="to",
            )
        return current, earlier[0]
