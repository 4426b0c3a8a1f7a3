"""Which article or poll a channel message belongs to.

Whatever records a message as some article's or poll's post (a publish, /markpublished,
a poll's send, the first press under an uncertain poll) claims it here, in the same
transaction: one ``INSERT … ON CONFLICT (chat, message_id) DO UPDATE … WHERE`` the owner
is the same.  A message free or already this owner's gives its row back; another owner's
gives nothing, and the caller's transaction is rolled back with ``MessageTaken``.  On
PostgreSQL a second claim of one message waits for the first to commit and then sees
its owner, so two editors recording one post for two articles cannot both succeed.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.errors import MessageTaken
from storage.database import Database
from storage.tables import channel_messages

m = channel_messages


async def claim_message(
    conn: AsyncConnection,
    db: Database,
    chat: str,
    message_id: int,
    *,
    article_id: int | None = None,
    poll_id: int | None = None,
) -> None:
    """Record ``message_id`` in ``chat`` as the article's post (its own poll may share
    it: pass the article) or a standalone poll's; raises ``MessageTaken`` naming the
    owner when the message is another's."""
    insert = db.insert(m).values(
        chat=chat, message_id=message_id, article_id=article_id, poll_id=poll_id
    )
    statement = insert.on_conflict_do_update(
        index_elements=[m.c.chat, m.c.message_id],
        set_={"article_id": insert.excluded.article_id},
        where=m.c.article_id.is_not_distinct_from(insert.excluded.article_id)
        & m.c.poll_id.is_not_distinct_from(insert.excluded.poll_id),
    ).returning(m.c.message_id)
    if (await conn.execute(statement)).first() is not None:
        return
    owner = (
        await conn.execute(
            select(m.c.article_id, m.c.poll_id).where(
                (m.c.chat == chat) & (m.c.message_id == message_id)
            )
        )
    ).one()
    raise MessageTaken(owner.article_id, owner.poll_id)
