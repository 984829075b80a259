"""The course names the article it follows and its outline, next to the map."""
from faultlab.course import chapters


def test_the_map_names_the_article_and_all_eight_sections():
    text = chapters.article_markdown()
    assert chapters.ARTICLE in text
    assert [n for n, _t, _a in chapters.OUTLINE] == [str(i) for i in range(1, 9)]
    for n, title, _about in chapters.OUTLINE:
        assert f"{n}. **{title}**" in text


def test_every_article_section_has_a_chapter_on_the_map():
    sections = {c.section.rstrip("abcd") for c in chapters.CHAPTERS}
    assert {n for n, _t, _a in chapters.OUTLINE} <= sections
