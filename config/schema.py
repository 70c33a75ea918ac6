"""OpenAPI generation settings shared by every API view."""

from drf_spectacular import openapi


class AutoSchema(openapi.AutoSchema):
    """Names a view's nested serializers after the view: `SignupApi.InputSerializer` → SignupInput."""

    def get_serializer_name(self, serializer, direction):
        owner, _, inner = type(serializer).__qualname__.rpartition(".")
        if owner and inner in ("InputSerializer", "OutputSerializer"):
            return owner.removesuffix("Api") + inner.removesuffix("Serializer")
        return super().get_serializer_name(serializer, direction)
