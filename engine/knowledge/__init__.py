"""The knowledge base (知识库): articles, search, answers at intake (docs/KNOWLEDGE.md)."""
