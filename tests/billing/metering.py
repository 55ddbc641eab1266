"""Metered calls made the way the generation pipeline makes them."""

import uuid

from billing import services


def provider_call(tenant, model: str, prompt: int, completion: int):
    """One metered call as the pipeline makes it: reserve the worst case, settle the real use."""
    generation_id = uuid.uuid4()
    services.quota_reserve(
        tenant=tenant,
        api_key=None,
        generation_id=generation_id,
        model=model,
        prompt_tokens_estimate=prompt,
        max_output_tokens=completion,
    )
    return services.quota_settle(
        generation_id=generation_id,
        model=model,
        prompt_tokens=prompt,
        completion_tokens=completion,
    )
