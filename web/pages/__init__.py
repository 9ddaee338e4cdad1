"""Server-rendered pages (Jinja2): zh-CN by default, English available, no outside assets."""
