"""Packaging from settings.ini (the nbdev 2 layout): every field is read from there."""
from configparser import ConfigParser
import setuptools, shlex

cfg = ConfigParser(delimiters=['='])
cfg.read('settings.ini', encoding='utf-8')
cfg = cfg['DEFAULT']

licenses = {'apache2': ('Apache Software License 2.0', 'OSI Approved :: Apache Software License')}
statuses = ['Pre-Alpha', 'Alpha', 'Beta', 'Production/Stable', 'Mature', 'Inactive']
lic = licenses[cfg['license']]

requirements = shlex.split(cfg.get('requirements', ''))
dev_requirements = shlex.split(cfg.get('dev_requirements', ''))
onnx_requirements = shlex.split(cfg.get('onnx_requirements', ''))
console_scripts = cfg.get('console_scripts', '').split()

setuptools.setup(
    name=cfg['lib_name'], version=cfg['version'], description=cfg['description'],
    long_description=open('README.md', encoding='utf-8').read(), long_description_content_type='text/markdown',
    author=cfg['author'], author_email=cfg['author_email'], license=lic[0], url=cfg['git_url'],
    keywords=cfg['keywords'].split(), python_requires='>=' + cfg['min_python'],
    classifiers=[f'Development Status :: {cfg["status"]} - {statuses[int(cfg["status"])]}',
                 f'Intended Audience :: {cfg["audience"]}', f'License :: {lic[1]}',
                 'Natural Language :: English', 'Programming Language :: Python :: 3'],
    packages=setuptools.find_packages(include=['trans3dhead', 'trans3dhead.*']),
    include_package_data=True, zip_safe=False,
    install_requires=requirements, extras_require={'dev': dev_requirements + onnx_requirements, 'onnx': onnx_requirements},
    entry_points={'console_scripts': console_scripts, 'nbdev': [f'{cfg["lib_path"]}={cfg["lib_path"]}._modidx:d']},
)
