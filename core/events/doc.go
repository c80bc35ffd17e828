// Package events is the kernel's in-process event bus. Producers define event types (structs with
// a Topic such as "job.progress") and Publish them; publishing never blocks and costs one atomic
// load when nobody listens. Each Subscription selects events by topic prefix and filter, and owns
// a bounded buffer whose overflow policy it chooses — drop the newest, drop the oldest, or
// coalesce by a key so that a slow subscriber gets the latest progress of every job rather than a
// backlog — and counts what it loses (Dropped, Coalesced). SubscribeTyped delivers one event type
// on a typed channel. Throttle keeps a producer to at most one event per interval (jobs use about
// 100 ms) without losing the last one.
package events
