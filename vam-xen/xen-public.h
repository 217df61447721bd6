/*
 * Xen's public interface headers (Debian libxen-dev, Xen 4.17), with the
 * interface version pinned: without it xen-compat.h picks 0 and silently
 * maps sched_op, event_channel_op and physdev_op to their old numbers
 * (shared/notes/xen-pv64-facts.md, "Header trap").
 */
#ifndef VAMXEN_XEN_PUBLIC_H
#define VAMXEN_XEN_PUBLIC_H

#define __XEN_INTERFACE_VERSION__ 0x00040e00
#include <stdint.h>
#include <xen/xen.h>
#include <xen/sched.h>
#include <xen/event_channel.h>
#include <xen/vcpu.h>
#include <xen/physdev.h>
#include <xen/callback.h>

#endif
