#!/usr/bin/env python3
"""systemd's user manager as the daemon sees it on the user bus, on a private
bus of a test's own (systemd --user refuses to run where the machine was not
booted with systemd): org.freedesktop.systemd1 at /org/freedesktop/systemd1,
org.freedesktop.systemd1.Manager's Environment property (as), Subscribe(),
and PropertiesChanged when the environment changes, with the value or with
the property invalidated, as systemd sends either.

Written with python3-dbus: the daemon's side (sd-bus) is what is under test,
so the service had better be another D-Bus implementation than the one it
checks. Usage: fake_user_manager.py ADDRESS NAME=VALUE...; then one command
a line on stdin, the Nth answered "ok N" on stdout once done:
  set NAME=VALUE...         the new environment, sent in the signal
  invalidate NAME=VALUE...  the new environment, the signal invalidates it
  garbage                   a PropertiesChanged whose Environment is an int
  quit                      (or end of file) leave the bus
"ready" once the name is owned.
"""
import sys

import dbus
import dbus.service
from dbus.mainloop.glib import DBusGMainLoop
from gi.repository import GLib

MANAGER = "org.freedesktop.systemd1.Manager"
PROPERTIES = "org.freedesktop.DBus.Properties"


class Manager(dbus.service.Object):
    def __init__(self, bus, env):
        super().__init__(bus, "/org/freedesktop/systemd1")
        self.env = env

    @dbus.service.method(MANAGER, in_signature="", out_signature="")
    def Subscribe(self):
        pass

    @dbus.service.method(PROPERTIES, in_signature="ss", out_signature="v")
    def Get(self, interface, name):
        if interface == MANAGER and name == "Environment":
            return dbus.Array(self.env, signature="s")
        raise dbus.exceptions.DBusException(
            "no property " + name, name="org.freedesktop.DBus.Error.UnknownProperty")

    @dbus.service.method(PROPERTIES, in_signature="s", out_signature="a{sv}")
    def GetAll(self, interface):
        if interface != MANAGER:
            return dbus.Dictionary({}, signature="sv")
        return dbus.Dictionary({"Environment": dbus.Array(self.env, signature="s")}, signature="sv")

    @dbus.service.signal(PROPERTIES, signature="sa{sv}as")
    def PropertiesChanged(self, interface, changed, invalidated):
        pass


def main():
    DBusGMainLoop(set_as_default=True)
    bus = dbus.bus.BusConnection(sys.argv[1])
    manager = Manager(bus, sys.argv[2:])
    name = dbus.service.BusName("org.freedesktop.systemd1", bus, do_not_queue=True)
    loop = GLib.MainLoop()
    done = [0]

    def command(_fd, _condition):
        line = sys.stdin.readline()
        words = line.split()
        if not words or words[0] == "quit":
            loop.quit()
            return False
        if words[0] == "set":
            manager.env = words[1:]
            manager.PropertiesChanged(
                MANAGER, dbus.Dictionary({"Environment": dbus.Array(manager.env, signature="s")}, signature="sv"),
                dbus.Array([], signature="s"))
        elif words[0] == "invalidate":
            manager.env = words[1:]
            manager.PropertiesChanged(MANAGER, dbus.Dictionary({}, signature="sv"),
                                      dbus.Array(["Environment"], signature="s"))
        elif words[0] == "garbage":
            manager.PropertiesChanged(MANAGER, dbus.Dictionary({"Environment": dbus.Int32(5)}, signature="sv"),
                                      dbus.Array([], signature="s"))
        bus.flush()
        done[0] += 1
        print(f"ok {done[0]}", flush=True)
        return True

    GLib.io_add_watch(sys.stdin.fileno(), GLib.IO_IN | GLib.IO_HUP, command)
    print("ready", flush=True)
    loop.run()
    del name


if __name__ == "__main__":
    main()
