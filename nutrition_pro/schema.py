"""OpenAPI schema generation tuned to the house style."""

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema


class AutoSchema(SpectacularAutoSchema):
    """Names components after their view when serializers are nested in it.

    The house style nests `InputSerializer` and `OutputSerializer` inside each API class, so
    the default names ("Input", "Output") would collide across views; the qualified name
    (`SampleDetailApi.InputSerializer` -> "SampleDetailInput") is unique and readable.
    """

    def get_serializer_name(self, serializer, direction):
        serializer_class = serializer.__class__
        parts = serializer_class.__qualname__.split(".")
        if len(parts) == 1:
            return super().get_serializer_name(serializer, direction)
        return "".join(part.removesuffix("Api").removesuffix("Serializer") for part in parts)
