"""Name gazetteer: common given names and surnames (US census and international lists).

These help find names in text; they are not the names the synthetic benchmark
draws from (see :mod:`engine.data.phi.benchmark`), so that its recall is honest.
"""

GIVEN_NAMES = frozenset("""
james john robert michael william david richard joseph thomas charles christopher daniel matthew
anthony mark donald steven paul andrew joshua kenneth kevin brian george timothy ronald edward
jason jeffrey ryan jacob gary nicholas eric jonathan stephen larry justin scott brandon benjamin
samuel gregory alexander frank patrick raymond jack dennis jerry tyler aaron jose adam nathan
henry douglas zachary peter kyle ethan walter noah jeremy christian keith roger terry gerald
harold sean austin carl arthur lawrence dylan jesse jordan bryan billy joe bruce gabriel logan
albert willie alan juan wayne elijah randy roy vincent ralph eugene russell bobby mason philip
louis mary patricia jennifer linda elizabeth barbara susan jessica sarah karen lisa nancy betty
margaret sandra ashley kimberly emily donna michelle carol amanda dorothy melissa deborah
stephanie rebecca sharon laura cynthia kathleen amy angela shirley anna brenda pamela emma nicole
helen samantha katherine christine debra rachel carolyn janet catherine maria heather diane ruth
julie olivia joyce virginia victoria kelly lauren christina joan evelyn judith megan andrea
cheryl hannah jacqueline martha gloria teresa ann sara madison frances kathryn janice jean abigail
alice judy sophia grace denise amber doris marilyn danielle beverly isabella theresa diana natalie
brittany charlotte marie kayla alexis lori mohammed muhammad ahmed ali fatima aisha omar hassan
wei li ming chen yan priya raj anil sunita deepak hiroshi yuki kenji sakura carlos luis miguel
sofia lucia diego pedro ana juanita giovanni marco giulia francesca pierre jean claude sophie
hans klaus anke ingrid lars sven olga ivan dmitri natasha
""".split())

SURNAMES = frozenset("""
smith johnson williams brown jones garcia miller davis rodriguez martinez hernandez lopez gonzalez
wilson anderson thomas taylor moore jackson martin lee perez thompson white harris sanchez clark
ramirez lewis robinson walker young allen king wright scott torres nguyen hill flores green adams
nelson baker hall rivera campbell mitchell carter roberts gomez phillips evans turner diaz parker
cruz edwards collins reyes stewart morris morales murphy cook rogers gutierrez ortiz morgan cooper
peterson bailey reed kelly howard ramos kim cox ward richardson watson brooks chavez wood james
bennett gray mendoza ruiz hughes price alvarez castillo sanders patel myers long ross foster
jimenez powell jenkins perry russell sullivan bell coleman butler henderson barnes gonzales fisher
vasquez simmons romero jordan patterson alexander hamilton graham reynolds griffin wallace moreno
west cole hayes bryant herrera gibson ellis tran medina aguilar stevens murray ford castro marshall
owens harrison fernandez mcdonald woods washington kennedy wells vargas henry chen freeman webb
tucker guzman burns crawford olson simpson porter hunter gordon mendez silva shaw snyder mason
dixon munoz hunt hicks holmes palmer wagner black robertson boyd rose stone salazar fox warren
mills meyer rice schmidt garza daniels ferguson nichols stephens soto weaver ryan gardner payne
grant dunn kelley spencer hawkins arnold pierce vazquez hansen peters santos hart bradley knight
elliott cunningham duncan armstrong hudson carroll lane riley andrews alvarado ray delgado berry
perkins hoffman johnston matthews pena richards contreras willis carpenter lawrence sandoval
wang zhang liu yang huang zhao wu zhou xu sun ma zhu hu guo lin singh kumar sharma gupta khan
ahmed ali hussain tanaka suzuki takahashi watanabe sato yamamoto nakamura muller schneider
fischer weber becker rossi russo ferrari bianchi romano dubois moreau laurent lefebvre ivanov
petrov smirnov kowalski nowak novak horvat jensen nielsen hansen andersen larsen
""".split())

TITLES = ("Mr", "Mrs", "Ms", "Miss", "Mx", "Dr", "Prof", "Judge", "Justice", "Attorney",
          "Nurse", "Officer", "Sgt", "Rev", "Hon", "Honorable", "Capt", "Lt", "Col", "Sister",
          "Fr", "Rabbi", "Imam", "Pastor", "Counsel")
