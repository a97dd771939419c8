"""The GraphQL documents the pipeline client sends: the public API, nothing else."""

from __future__ import annotations

ERRORS = "errors { code message field }"
STATUS = "status { status reason observedAt }"
DEPLOYMENT = "deployment { id image outcome reason actor startedAt finishedAt }"

DEPLOY = f"""mutation Deploy($input: DeployInput!) {{
  deploy(input: $input) {{ outcome {DEPLOYMENT} {STATUS} {ERRORS} }}
}}"""

ROLLBACK = f"""mutation Rollback($input: RollbackInput!) {{
  rollback(input: $input) {{
    outcome deployment {{ id image outcome reason actor startedAt finishedAt rolledBackFrom {{ id image }} }}
    {STATUS} {ERRORS}
  }}
}}"""

HIBERNATE = f"""mutation Hibernate($input: HibernateInput!) {{
  hibernate(input: $input) {{ outcome {STATUS} {ERRORS} }}
}}"""

UNHIBERNATE = f"""mutation Unhibernate($input: UnhibernateInput!) {{
  unhibernate(input: $input) {{ outcome {STATUS} {ERRORS} }}
}}"""

_BULK = f"results {{ app outcome {DEPLOYMENT} {STATUS} {ERRORS} }} {ERRORS}"

DEPLOY_MANY = f"""mutation DeployMany($input: DeployManyInput!) {{ deployMany(input: $input) {{ {_BULK} }} }}"""
HIBERNATE_MANY = f"""mutation HibernateMany($input: AppGroupInput!) {{ hibernateMany(input: $input) {{ {_BULK} }} }}"""
UNHIBERNATE_MANY = (
    f"""mutation UnhibernateMany($input: AppGroupInput!) {{ unhibernateMany(input: $input) {{ {_BULK} }} }}"""
)

LIVE_STATUSES = """query LiveStatuses($environment: String!, $apps: [String!]) {
  appStatuses(environment: $environment, apps: $apps) {
    status reason observedAt appEnvironment { app { name } }
    workloads { kind name desiredReplicas readyReplicas }
  }
}"""

_APP_ENVIRONMENT = """app { name team } environment { name }
  status statusReason statusSince statusObservedAt"""

APP_ENVIRONMENTS = f"""query AppEnvironments($first: Int!, $after: String, $filter: AppFilter) {{
  appEnvironments(first: $first, after: $after, filter: $filter) {{
    totalCount pageInfo {{ hasNextPage endCursor }}
    nodes {{ {_APP_ENVIRONMENT} }}
  }}
}}"""

ENVIRONMENT = """query Environment($name: String!) { environment(name: $name) { name } }"""
APP = """query App($name: String!) { app(name: $name) { name } }"""

_WHERE = "appEnvironment { app { name } environment { name } }"

HISTORY = f"""query History($first: Int!, $transitions: TransitionFilter, $deployments: DeploymentFilter) {{
  transitions(first: $first, filter: $transitions) {{
    totalCount nodes {{ at fromStatus toStatus cause actor reason {_WHERE} }}
  }}
  deployments(first: $first, filter: $deployments) {{
    totalCount nodes {{ id startedAt finishedAt image outcome reason actor onHibernated {_WHERE} }}
  }}
}}"""
