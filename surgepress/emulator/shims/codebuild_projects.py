"""CodeBuild: projects fed by CodePipeline, and the encryption key a project asks for.

- moto requires a `location` for every source and artifacts type; AWS requires none for
  `CODEPIPELINE` sources and artifacts (the pipeline hands the build its input and takes
  its output) nor for `NO_SOURCE`.
- moto answers every project with the default `alias/aws/s3` key, whatever `encryptionKey`
  the request named, so a project with its own KMS key would be planned again forever.
- moto's DeleteProject looks the project up by name only; AWS also takes its ARN, which is
  what the Terraform provider sends (the resource's id). moto answered success and kept the
  project, so a destroy left it behind and the next deploy failed with "Project already exists".
"""

from __future__ import annotations

from typing import Any

NO_LOCATION_NEEDED = ("CODEPIPELINE", "NO_SOURCE")


def install() -> None:
    from moto.codebuild import responses
    from moto.codebuild.responses import CodeBuildResponse

    for name in ("_validate_required_params_source", "_validate_required_params_artifacts"):
        original_validate = getattr(responses, name)

        def validate(value: dict[str, Any], _original: Any = original_validate) -> None:
            if value.get("type") in NO_LOCATION_NEEDED and not value.get("location"):
                return
            _original(value)

        setattr(responses, name, validate)

    original_create = CodeBuildResponse.create_project

    def create_project(self: Any) -> Any:
        result = original_create(self)
        key = self._get_param("encryptionKey")
        project = self.codebuild_backend.codebuild_projects.get(self._get_param("name"))
        if key and project is not None:
            project.project_metadata["encryptionKey"] = key
        return result

    CodeBuildResponse.create_project = create_project

    from moto.codebuild.models import CodeBuildBackend

    original_delete = CodeBuildBackend.delete_project

    def delete_project(self: Any, project_name: str) -> None:
        named = (name for name, project in self.codebuild_projects.items() if project.arn == project_name)
        original_delete(self, next(named, project_name))

    CodeBuildBackend.delete_project = delete_project
