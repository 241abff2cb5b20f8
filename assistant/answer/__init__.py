"""Answer: from a question to a cited answer.

Owns question understanding (follow-ups, glossary terms), hybrid retrieval (a
LangChain retriever over the ``store``), the extractive answer, the optional
model answer and its sentence-by-sentence citation check, the injection
check, and the LCEL chain that runs them (:class:`~.chain.Assistant`). Hands
on :class:`~.response.Answer`; formats no HTML and speaks no HTTP.
"""
