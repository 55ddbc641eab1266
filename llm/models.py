"""llm models."""
