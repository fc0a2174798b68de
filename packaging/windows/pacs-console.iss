; Inno Setup 6 script for the PACS Console Windows installer.
;
; Build on Windows after `python packaging\build.py` has produced dist\pacs-console\:
;   "C:\Program Files (x86)\Inno Setup 6\ISCC.exe" /DAppVersion=0.1.0 packaging\windows\pacs-console.iss
; (AppVersion defaults to the value below; pass the one in pacs_console/__init__.py.)
; Output: dist\pacs-console-<version>-setup.exe. Not built in CI (Linux); see packaging/README.md.
;
; Per-user install by default (no administrator rights on most field laptops), into
; %LOCALAPPDATA%\Programs\PACS Console; "Install for all users" needs elevation.
; The folder holds both executables: pacs-console.exe (window) and pacs-console-cli.exe
; (console-mode twin for the command line); the installer can put the folder on the user PATH.

#ifndef AppVersion
  #define AppVersion "0.1.0"
#endif
#define AppName "PACS Console"
#define AppExe "pacs-console.exe"
#define CliExe "pacs-console-cli.exe"
#define SourceDir "..\..\dist\pacs-console"

[Setup]
AppId={{6C1E0F5B-6A55-4C55-9C44-5D3B1F0C2A71}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher=PACS Console
DefaultDirName={autopf}\{#AppName}
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputDir=..\..\dist
OutputBaseFilename=pacs-console-{#AppVersion}-setup
SetupIconFile=..\..\resources\icons\pacs-console.ico
UninstallDisplayIcon={app}\{#AppExe}
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
ChangesEnvironment=yes
; The console keeps its data in the user's profile (platformdirs); uninstalling leaves it.

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"
Name: "addtopath"; Description: "Add pacs-console-cli to PATH (command prompt and scripts)"; GroupDescription: "Command line:"; Flags: unchecked

[Files]
; The whole one-folder build; nothing else is needed on the laptop (no Python, no internet).
Source: "{#SourceDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\{#AppName}"; Filename: "{app}\{#AppExe}"
Name: "{autoprograms}\{#AppName} self-check"; Filename: "{cmd}"; Parameters: "/k ""{app}\{#CliExe}"" --self-check"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#AppExe}"; Tasks: desktopicon

[Registry]
Root: HKCU; Subkey: "Environment"; ValueType: expandsz; ValueName: "Path"; ValueData: "{olddata};{app}"; Tasks: addtopath; Check: NeedsAddPath(ExpandConstant('{app}'))

[Run]
Filename: "{app}\{#AppExe}"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent

[Code]
function NeedsAddPath(Dir: string): Boolean;
var
  Path: string;
begin
  if not RegQueryStringValue(HKEY_CURRENT_USER, 'Environment', 'Path', Path) then
  begin
    Result := True;
    exit;
  end;
  Result := Pos(';' + Uppercase(Dir) + ';', ';' + Uppercase(Path) + ';') = 0;
end;
