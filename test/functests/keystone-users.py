#!/usr/bin/env python3
"""keystone-users.py CLOUDS_YAML CLOUD DOMAIN4

Makes, through the identity API as the cloud's admin (python-keystoneclient, what the suite
itself uses), the projects, users, domain and roles Swift's functional suite expects with
`auth_version = 3` (test/sample.conf, test/functional/test_access_control.py's table, as
devstack's lib/swift makes them):

  no. domain   project  user     role           password
  1   default  test     tester   admin          testing
  2   default  test2    tester2  admin          testing2
  3   default  test     tester3  _member_       testing3   (no operator role)
  4   DOMAIN4  test4    tester4  admin          testing4
  5   default  test5    tester5  service        testing5   (the service token's user)
  6   default  test     tester6  ResellerAdmin  testing6

Everything is create-if-absent, so a second run changes nothing.
"""
import sys

import yaml
from keystoneauth1 import session
from keystoneauth1.identity import v3
from keystoneclient.v3 import client

clouds, cloud, domain4 = sys.argv[1:4]
auth = yaml.safe_load(open(clouds))['clouds'][cloud]['auth']
ks = client.Client(session=session.Session(auth=v3.Password(
    auth_url=auth['auth_url'], username=auth['username'], password=auth['password'],
    project_name=auth['project_name'], user_domain_name=auth['user_domain_name'],
    project_domain_name=auth['project_domain_name'])))


def one(found):
    return found[0] if found else None


def domain(name):
    return one(ks.domains.list(name=name)) or ks.domains.create(
        name, description='for Swift functional tests')


def role(name):
    return one(ks.roles.list(name=name)) or ks.roles.create(name)


def project(name, dom):
    return one(ks.projects.list(name=name, domain=dom)) or ks.projects.create(name, dom)


def user(name, password, dom, proj):
    u = one(ks.users.list(name=name, domain=dom))
    return u or ks.users.create(name, domain=dom, password=password,
                                default_project=proj)


default = ks.domains.get('default')
other = domain(domain4)
projects = {'test': project('test', default), 'test2': project('test2', default),
            'test4': project('test4', other), 'test5': project('test5', default)}
for name, password, dom, proj, rname in [
        ('tester', 'testing', default, 'test', 'admin'),
        ('tester2', 'testing2', default, 'test2', 'admin'),
        ('tester3', 'testing3', default, 'test', '_member_'),
        ('tester4', 'testing4', other, 'test4', 'admin'),
        ('tester5', 'testing5', default, 'test5', 'service'),
        ('tester6', 'testing6', default, 'test', 'ResellerAdmin')]:
    u = user(name, password, dom, projects[proj])
    ks.roles.grant(role(rname), user=u, project=projects[proj])
print('keystone users for the functional tests: ready')
